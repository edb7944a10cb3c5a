"""Mistake: the constructor takes gamma before C, with no defaults: by name everything works, but the lab's
calls KSVMWrap(X, Y_) and KSVMWrap(X, Y_, 1, 'auto') fail."""

from sklearn.svm import SVC


class KSVMWrap:
    def __init__(self, X, Y_, gamma, C):
        self.svc = SVC(C=C, gamma=gamma)
        self.svc.fit(X, Y_)

    def predict(self, X):
        return self.svc.predict(X)

    def get_scores(self, X):
        return self.svc.decision_function(X)

    @property
    def support(self):
        return self.svc.support_
