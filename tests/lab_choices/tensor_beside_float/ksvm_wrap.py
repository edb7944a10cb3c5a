"""Not a mistake: the hyper-parameters named as sklearn.svm.SVC names them, C and gamma, in the lab's
order and with the lab's defaults."""

from sklearn import svm


class KSVMWrap:
    def __init__(self, X, Y_, C=1, gamma="auto"):
        self.clf = svm.SVC(C=C, gamma=gamma)
        self.clf.fit(X, Y_)

    def predict(self, X):
        return self.clf.predict(X)

    def get_scores(self, X):
        return self.clf.decision_function(X)

    def support(self):
        return self.clf.support_
